(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 34
(002) ldh      [12]
(003) jeq      #0x800           jt 4	jf 34
(004) ld       #0x6
(005) st       M[0]
(006) ldx      M[0]
(007) ldh      [x + 14]
(008) st       M[1]
(009) ld       #0x1fff
(010) st       M[2]
(011) ldx      M[2]
(012) ld       M[1]
(013) and      x
(014) st       M[2]
(015) ld       #0x0
(016) st       M[3]
(017) ldx      M[3]
(018) ld       M[2]
(019) sub      x
(020) jeq      #0x0             jt 21	jf 34
(021) ldh      [12]
(022) jeq      #0x800           jt 23	jf 25
(023) ldb      [23]
(024) jeq      #0x11            jt 33	jf 25
(025) ldh      [12]
(026) jeq      #0x86dd          jt 27	jf 34
(027) ldb      [20]
(028) jeq      #0x11            jt 33	jf 29
(029) ldb      [20]
(030) jeq      #0x2c            jt 31	jf 34
(031) ldb      [54]
(032) jeq      #0x11            jt 33	jf 34
(033) ret      #262144
(034) ret      #0
