(000) ld       [8]
(001) jeq      #0x22334455      jt 2	jf 8
(002) ldh      [6]
(003) jeq      #0x11            jt 4	jf 8
(004) ldh      [12]
(005) jeq      #0x806           jt 7	jf 6
(006) jeq      #0x800           jt 7	jf 8
(007) ret      #262144
(008) ret      #0
