(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 9
(002) ld       [26]
(003) and      #0xff000000
(004) jeq      #0xa000000       jt 5	jf 9
(005) ld       [30]
(006) and      #0xffff0000
(007) jeq      #0xc0a80000      jt 8	jf 9
(008) ret      #262144
(009) ret      #0
