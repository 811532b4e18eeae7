(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 7
(002) ldh      [12]
(003) jeq      #0x86dd          jt 4	jf 6
(004) ldb      [38]
(005) jeq      #0xff            jt 7	jf 6
(006) ret      #262144
(007) ret      #0
