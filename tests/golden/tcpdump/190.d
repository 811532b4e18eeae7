(000) ldh      [12]
(001) jeq      #0x809b          jt 7	jf 2
(002) jgt      #0x5dc           jt 8	jf 3
(003) ld       [18]
(004) jeq      #0x7809b         jt 5	jf 8
(005) ld       [14]
(006) jeq      #0xaaaa0308      jt 7	jf 8
(007) ret      #262144
(008) ret      #0
