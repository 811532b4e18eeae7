(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 4
(002) ld       [26]
(003) jeq      #0xa000001       jt 24	jf 4
(004) ldh      [12]
(005) jeq      #0x800           jt 6	jf 8
(006) ld       [30]
(007) jeq      #0xa000001       jt 24	jf 8
(008) ldh      [12]
(009) jeq      #0x806           jt 10	jf 12
(010) ld       [28]
(011) jeq      #0xa000001       jt 24	jf 12
(012) ldh      [12]
(013) jeq      #0x806           jt 14	jf 16
(014) ld       [38]
(015) jeq      #0xa000001       jt 24	jf 16
(016) ldh      [12]
(017) jeq      #0x8035          jt 18	jf 20
(018) ld       [28]
(019) jeq      #0xa000001       jt 24	jf 20
(020) ldh      [12]
(021) jeq      #0x8035          jt 22	jf 61
(022) ld       [38]
(023) jeq      #0xa000001       jt 24	jf 61
(024) ldh      [12]
(025) jeq      #0x800           jt 26	jf 61
(026) ldh      [12]
(027) jeq      #0x800           jt 28	jf 30
(028) ldb      [23]
(029) jeq      #0x6             jt 38	jf 30
(030) ldh      [12]
(031) jeq      #0x86dd          jt 32	jf 61
(032) ldb      [20]
(033) jeq      #0x6             jt 38	jf 34
(034) ldb      [20]
(035) jeq      #0x2c            jt 36	jf 61
(036) ldb      [54]
(037) jeq      #0x6             jt 38	jf 61
(038) ldh      [20]
(039) jset     #0x1fff          jt 61	jf 40
(040) ld       #0xd
(041) st       M[0]
(042) ldxb     4*([14]&0xf)
(043) ld       M[0]
(044) add      x
(045) tax      
(046) ldb      [x + 14]
(047) st       M[1]
(048) ld       #0x2
(049) st       M[2]
(050) ldx      M[2]
(051) ld       M[1]
(052) and      x
(053) st       M[2]
(054) ld       #0x0
(055) st       M[3]
(056) ldx      M[3]
(057) ld       M[2]
(058) sub      x
(059) jeq      #0x0             jt 61	jf 60
(060) ret      #262144
(061) ret      #0
