(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 10
(002) ldb      [20]
(003) jeq      #0x3a            jt 7	jf 4
(004) jeq      #0x2c            jt 5	jf 10
(005) ldb      [54]
(006) jeq      #0x3a            jt 7	jf 10
(007) ldb      [54]
(008) jeq      #0x87            jt 9	jf 10
(009) ret      #262144
(010) ret      #0
