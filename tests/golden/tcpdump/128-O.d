(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 14
(002) ld       #0x6
(003) st       M[0]
(004) ldx      M[0]
(005) ldb      [x + 14]
(006) st       M[1]
(007) ld       #0x11
(008) st       M[2]
(009) ldx      M[2]
(010) ld       M[1]
(011) sub      x
(012) jeq      #0x0             jt 13	jf 14
(013) ret      #262144
(014) ret      #0
