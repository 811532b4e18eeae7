(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 7
(002) ldb      [30]
(003) jge      #0xe0            jt 4	jf 7
(004) ldb      [23]
(005) jeq      #0x11            jt 6	jf 7
(006) ret      #262144
(007) ret      #0
