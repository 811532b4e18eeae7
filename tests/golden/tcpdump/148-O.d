(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 31
(002) ldh      [12]
(003) jeq      #0x800           jt 4	jf 6
(004) ldb      [23]
(005) jeq      #0x11            jt 14	jf 6
(006) ldh      [12]
(007) jeq      #0x86dd          jt 8	jf 31
(008) ldb      [20]
(009) jeq      #0x11            jt 14	jf 10
(010) ldb      [20]
(011) jeq      #0x2c            jt 12	jf 31
(012) ldb      [54]
(013) jeq      #0x11            jt 14	jf 31
(014) ldh      [20]
(015) jset     #0x1fff          jt 31	jf 16
(016) ld       #0x8
(017) st       M[0]
(018) ldxb     4*([14]&0xf)
(019) ld       M[0]
(020) add      x
(021) tax      
(022) ld       [x + 14]
(023) st       M[1]
(024) ld       #0x12345678
(025) st       M[2]
(026) ldx      M[2]
(027) ld       M[1]
(028) sub      x
(029) jeq      #0x0             jt 30	jf 31
(030) ret      #262144
(031) ret      #0
