(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 8
(002) ldb      [20]
(003) jeq      #0x6             jt 4	jf 8
(004) ldh      [54]
(005) jeq      #0x50            jt 60	jf 6
(006) ldh      [56]
(007) jeq      #0x50            jt 60	jf 8
(008) ldh      [12]
(009) jeq      #0x800           jt 10	jf 20
(010) ldb      [23]
(011) jeq      #0x6             jt 12	jf 20
(012) ldh      [20]
(013) jset     #0x1fff          jt 20	jf 14
(014) ldxb     4*([14]&0xf)
(015) ldh      [x + 14]
(016) jeq      #0x50            jt 60	jf 17
(017) ldxb     4*([14]&0xf)
(018) ldh      [x + 16]
(019) jeq      #0x50            jt 60	jf 20
(020) ldh      [12]
(021) jeq      #0x86dd          jt 22	jf 28
(022) ldb      [20]
(023) jeq      #0x6             jt 24	jf 28
(024) ldh      [54]
(025) jeq      #0x1f90          jt 60	jf 26
(026) ldh      [56]
(027) jeq      #0x1f90          jt 60	jf 28
(028) ldh      [12]
(029) jeq      #0x800           jt 30	jf 40
(030) ldb      [23]
(031) jeq      #0x6             jt 32	jf 40
(032) ldh      [20]
(033) jset     #0x1fff          jt 40	jf 34
(034) ldxb     4*([14]&0xf)
(035) ldh      [x + 14]
(036) jeq      #0x1f90          jt 60	jf 37
(037) ldxb     4*([14]&0xf)
(038) ldh      [x + 16]
(039) jeq      #0x1f90          jt 60	jf 40
(040) ldh      [12]
(041) jeq      #0x86dd          jt 42	jf 48
(042) ldb      [20]
(043) jeq      #0x6             jt 44	jf 48
(044) ldh      [54]
(045) jeq      #0x20fb          jt 60	jf 46
(046) ldh      [56]
(047) jeq      #0x20fb          jt 60	jf 48
(048) ldh      [12]
(049) jeq      #0x800           jt 50	jf 61
(050) ldb      [23]
(051) jeq      #0x6             jt 52	jf 61
(052) ldh      [20]
(053) jset     #0x1fff          jt 61	jf 54
(054) ldxb     4*([14]&0xf)
(055) ldh      [x + 14]
(056) jeq      #0x20fb          jt 60	jf 57
(057) ldxb     4*([14]&0xf)
(058) ldh      [x + 16]
(059) jeq      #0x20fb          jt 60	jf 61
(060) ret      #262144
(061) ret      #0
