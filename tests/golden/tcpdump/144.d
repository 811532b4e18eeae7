(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 8
(002) ldb      [14]
(003) and      #0xf
(004) jeq      #0x5             jt 8	jf 5
(005) ldh      [16]
(006) jge      #0x28            jt 8	jf 7
(007) ret      #262144
(008) ret      #0
