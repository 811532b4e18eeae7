(000) ld       #0xc
(001) st       M[0]
(002) ldx      M[0]
(003) ldh      [x + 0]
(004) st       M[1]
(005) ld       #0x88a8
(006) st       M[2]
(007) ldx      M[2]
(008) ld       M[1]
(009) sub      x
(010) jeq      #0x0             jt 22	jf 11
(011) ld       #0xc
(012) st       M[2]
(013) ldx      M[2]
(014) ldh      [x + 0]
(015) st       M[3]
(016) ld       #0x8100
(017) st       M[4]
(018) ldx      M[4]
(019) ld       M[3]
(020) sub      x
(021) jeq      #0x0             jt 22	jf 23
(022) ret      #262144
(023) ret      #0
