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
(016) jeq      #0xa00           jt 17	jf 20
(017) ldxb     4*([14]&0xf)
(018) txa      
(019) jeq      x                jt 35	jf 20
(020) ldh      [12]
(021) jeq      #0x86dd          jt 22	jf 57
(022) ldb      [20]
(023) jeq      #0x11            jt 24	jf 57
(024) ldh      [56]
(025) jeq      #0x17c1          jt 26	jf 57
(026) ldb      [62]
(027) and      #0xc0
(028) jeq      #0x0             jt 29	jf 57
(029) ld       [66]
(030) and      #0xffffff00
(031) jeq      #0xa00           jt 32	jf 57
(032) ld       #0x28
(033) tax      
(034) jeq      x                jt 35	jf 57
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
(055) jeq      #0x0             jt 56	jf 57
(056) ret      #262144
(057) ret      #0
