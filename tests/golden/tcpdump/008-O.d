(000) ld       #0x0
(001) st       M[0]
(002) ldx      M[0]
(003) ldb      [x + 0]
(004) st       M[1]
(005) ld       #0x1
(006) st       M[2]
(007) ldx      M[2]
(008) ld       M[1]
(009) and      x
(010) st       M[2]
(011) ld       #0x0
(012) st       M[3]
(013) ldx      M[3]
(014) ld       M[2]
(015) sub      x
(016) jeq      #0x0             jt 17	jf 18
(017) ret      #0
(018) ret      #262144
