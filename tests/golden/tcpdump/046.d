(000) ldh      [12]
(001) jeq      #0x800           jt 3	jf 2
(002) jeq      #0x86dd          jt 3	jf 4
(003) ret      #262144
(004) ret      #0
