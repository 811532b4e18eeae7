(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 5
(002) ldb      [22]
(003) jge      #0x5             jt 5	jf 4
(004) ret      #262144
(005) ret      #0
