(000) ldh      [12]
(001) jeq      #0x800           jt 4	jf 2
(002) jeq      #0x86dd          jt 4	jf 3
(003) jeq      #0x806           jt 4	jf 5
(004) ret      #0
(005) ret      #262144
