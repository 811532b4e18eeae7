(000) ldh      [12]
(001) jeq      #0x806           jt 2	jf 5
(002) ld       [28]
(003) jeq      #0xa000001       jt 4	jf 5
(004) ret      #262144
(005) ret      #0
