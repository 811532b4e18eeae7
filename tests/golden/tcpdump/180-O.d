(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 20
(002) ldb      [23]
(003) jeq      #0x11            jt 4	jf 20
(004) ldh      [20]
(005) jset     #0x1fff          jt 20	jf 6
(006) ldxb     4*([14]&0xf)
(007) ldh      [x + 16]
(008) jeq      #0x17c1          jt 9	jf 20
(009) ldxb     4*([14]&0xf)
(010) ldb      [x + 22]
(011) and      #0xc0
(012) jeq      #0x0             jt 13	jf 20
(013) ldxb     4*([14]&0xf)
(014) ld       [x + 26]
(015) and      #0xffffff00
(016) jeq      #0x500           jt 17	jf 20
(017) ldxb     4*([14]&0xf)
(018) txa      
(019) jeq      x                jt 35	jf 20
(020) ldh      [12]
(021) jeq      #0x86dd          jt 22	jf 94
(022) ldb      [20]
(023) jeq      #0x11            jt 24	jf 94
(024) ldh      [56]
(025) jeq      #0x17c1          jt 26	jf 94
(026) ldb      [62]
(027) and      #0xc0
(028) jeq      #0x0             jt 29	jf 94
(029) ld       [66]
(030) and      #0xffffff00
(031) jeq      #0x500           jt 32	jf 94
(032) ld       #0x28
(033) tax      
(034) jeq      x                jt 35	jf 94
(035) add      #22
(036) tax      
(037) add      #2
(038) st       M[0]
(039) ldb      [x + 0]
(040) and      #0x3f
(041) mul      #4
(042) add      #8
(043) add      x
(044) st       M[1]
(045) ldh      [x + 2]
(046) ldx      M[1]
(047) jeq      #0x6558          jt 48	jf 53
(048) txa      
(049) add      #12
(050) st       M[0]
(051) add      #2
(052) tax      
(053) stx      M[2]
(054) ld       #0x0
(055) jeq      #0x0             jt 56	jf 94
(056) ldx      M[0]
(057) ldh      [x + 0]
(058) jeq      #0x86dd          jt 59	jf 68
(059) ldx      M[2]
(060) ldb      [x + 6]
(061) jeq      #0x11            jt 62	jf 68
(062) ldx      M[2]
(063) ldh      [x + 40]
(064) jeq      #0x35            jt 93	jf 65
(065) ldx      M[2]
(066) ldh      [x + 42]
(067) jeq      #0x35            jt 93	jf 68
(068) ldx      M[0]
(069) ldh      [x + 0]
(070) jeq      #0x800           jt 71	jf 94
(071) ldx      M[2]
(072) ldb      [x + 9]
(073) jeq      #0x11            jt 74	jf 94
(074) ldx      M[2]
(075) ldh      [x + 6]
(076) jset     #0x1fff          jt 94	jf 77
(077) ldx      M[2]
(078) ldb      [x + 0]
(079) and      #0xf
(080) lsh      #2
(081) add      x
(082) tax      
(083) ldh      [x + 0]
(084) jeq      #0x35            jt 93	jf 85
(085) ldx      M[2]
(086) ldb      [x + 0]
(087) and      #0xf
(088) lsh      #2
(089) add      x
(090) tax      
(091) ldh      [x + 2]
(092) jeq      #0x35            jt 93	jf 94
(093) ret      #262144
(094) ret      #0
