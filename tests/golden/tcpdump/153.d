(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 7
(002) ldh      [16]
(003) jset     #0x3             jt 7	jf 4
(004) rsh      #2
(005) jgt      #0xa             jt 6	jf 7
(006) ret      #262144
(007) ret      #0
