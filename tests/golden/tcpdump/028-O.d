(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 5
(002) ld       [30]
(003) and      #0xffffff00
(004) jeq      #0xc0a86400      jt 15	jf 5
(005) ldh      [12]
(006) jeq      #0x806           jt 7	jf 10
(007) ld       [38]
(008) and      #0xffffff00
(009) jeq      #0xc0a86400      jt 15	jf 10
(010) ldh      [12]
(011) jeq      #0x8035          jt 12	jf 16
(012) ld       [38]
(013) and      #0xffffff00
(014) jeq      #0xc0a86400      jt 15	jf 16
(015) ret      #262144
(016) ret      #0
