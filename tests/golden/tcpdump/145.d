(000) ld       #pktlen
(001) sub      #1
(002) tax      
(003) ldb      [x + 0]
(004) jeq      #0x0             jt 5	jf 6
(005) ret      #262144
(006) ret      #0
