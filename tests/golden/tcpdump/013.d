(000) ldh      [12]
(001) jeq      #0x806           jt 2	jf 7
(002) ld       [28]
(003) jeq      #0xc0a80101      jt 6	jf 4
(004) ld       [38]
(005) jeq      #0xc0a80101      jt 6	jf 7
(006) ret      #262144
(007) ret      #0
