(000) ldb      [23]
(001) tax      
(002) ld       #0xffffffff
(003) add      x
(004) jeq      #0x5             jt 5	jf 6
(005) ret      #262144
(006) ret      #0
