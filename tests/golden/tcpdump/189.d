(000) ldh      [12]
(001) jeq      #0x8137          jt 11	jf 2
(002) jgt      #0x5dc           jt 12	jf 3
(003) ld       [18]
(004) jeq      #0x8137          jt 5	jf 7
(005) ld       [14]
(006) jeq      #0xaaaa0300      jt 11	jf 7
(007) ldb      [14]
(008) jeq      #0xe0            jt 11	jf 9
(009) ldh      [14]
(010) jeq      #0xffff          jt 11	jf 12
(011) ret      #262144
(012) ret      #0
