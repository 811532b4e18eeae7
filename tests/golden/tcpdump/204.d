(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 7
(002) ldh      [20]
(003) jset     #0x1fff          jt 7	jf 4
(004) ldb      [23]
(005) jeq      #0x11            jt 6	jf 7
(006) ret      #262144
(007) ret      #0
