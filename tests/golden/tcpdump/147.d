(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 6
(002) ld       [26]
(003) and      #0xffffff00
(004) jeq      #0xa000000       jt 5	jf 6
(005) ret      #262144
(006) ret      #0
