(000) ld       [2]
(001) jeq      #0xffffffff      jt 2	jf 4
(002) ldh      [0]
(003) jeq      #0xffff          jt 6	jf 4
(004) ldb      [0]
(005) jset     #0x1             jt 6	jf 7
(006) ret      #262144
(007) ret      #0
