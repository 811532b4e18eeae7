(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 8
(002) ldb      [20]
(003) jeq      #0x6             jt 4	jf 8
(004) ldh      [54]
(005) jeq      #0x50            jt 40	jf 6
(006) ldh      [56]
(007) jeq      #0x50            jt 40	jf 8
(008) ldh      [12]
(009) jeq      #0x800           jt 10	jf 20
(010) ldb      [23]
(011) jeq      #0x6             jt 12	jf 20
(012) ldh      [20]
(013) jset     #0x1fff          jt 20	jf 14
(014) ldxb     4*([14]&0xf)
(015) ldh      [x + 14]
(016) jeq      #0x50            jt 40	jf 17
(017) ldxb     4*([14]&0xf)
(018) ldh      [x + 16]
(019) jeq      #0x50            jt 40	jf 20
(020) ldh      [12]
(021) jeq      #0x86dd          jt 22	jf 28
(022) ldb      [20]
(023) jeq      #0x6             jt 24	jf 28
(024) ldh      [54]
(025) jeq      #0x1bb           jt 40	jf 26
(026) ldh      [56]
(027) jeq      #0x1bb           jt 40	jf 28
(028) ldh      [12]
(029) jeq      #0x800           jt 30	jf 65
(030) ldb      [23]
(031) jeq      #0x6             jt 32	jf 65
(032) ldh      [20]
(033) jset     #0x1fff          jt 65	jf 34
(034) ldxb     4*([14]&0xf)
(035) ldh      [x + 14]
(036) jeq      #0x1bb           jt 40	jf 37
(037) ldxb     4*([14]&0xf)
(038) ldh      [x + 16]
(039) jeq      #0x1bb           jt 40	jf 65
(040) ldh      [12]
(041) jeq      #0x800           jt 42	jf 44
(042) ld       [26]
(043) jeq      #0xa000001       jt 64	jf 44
(044) ldh      [12]
(045) jeq      #0x800           jt 46	jf 48
(046) ld       [30]
(047) jeq      #0xa000001       jt 64	jf 48
(048) ldh      [12]
(049) jeq      #0x806           jt 50	jf 52
(050) ld       [28]
(051) jeq      #0xa000001       jt 64	jf 52
(052) ldh      [12]
(053) jeq      #0x806           jt 54	jf 56
(054) ld       [38]
(055) jeq      #0xa000001       jt 64	jf 56
(056) ldh      [12]
(057) jeq      #0x8035          jt 58	jf 60
(058) ld       [28]
(059) jeq      #0xa000001       jt 64	jf 60
(060) ldh      [12]
(061) jeq      #0x8035          jt 62	jf 65
(062) ld       [38]
(063) jeq      #0xa000001       jt 64	jf 65
(064) ret      #262144
(065) ret      #0
