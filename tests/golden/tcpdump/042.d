(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 6
(002) ld       [22]
(003) and      #0xffc00000
(004) jeq      #0xfe800000      jt 5	jf 6
(005) ret      #262144
(006) ret      #0
