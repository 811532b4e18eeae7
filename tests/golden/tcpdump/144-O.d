(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 32
(002) ld       #0x0
(003) st       M[0]
(004) ldx      M[0]
(005) ldb      [x + 14]
(006) st       M[1]
(007) ld       #0xf
(008) st       M[2]
(009) ldx      M[2]
(010) ld       M[1]
(011) and      x
(012) st       M[2]
(013) ld       #0x5
(014) st       M[3]
(015) ldx      M[3]
(016) ld       M[2]
(017) sub      x
(018) jeq      #0x0             jt 32	jf 19
(019) ldh      [12]
(020) jeq      #0x800           jt 21	jf 32
(021) ld       #0x2
(022) st       M[3]
(023) ldx      M[3]
(024) ldh      [x + 14]
(025) st       M[4]
(026) ld       #0x28
(027) st       M[5]
(028) ldx      M[5]
(029) ld       M[4]
(030) jge      x                jt 32	jf 31
(031) ret      #262144
(032) ret      #0
