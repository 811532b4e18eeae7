(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 23
(002) ldh      [12]
(003) jeq      #0x800           jt 4	jf 23
(004) ldb      [23]
(005) jeq      #0x1             jt 6	jf 23
(006) ldh      [20]
(007) jset     #0x1fff          jt 23	jf 8
(008) ld       #0x0
(009) st       M[0]
(010) ldxb     4*([14]&0xf)
(011) ld       M[0]
(012) add      x
(013) tax      
(014) ldb      [x + 14]
(015) st       M[1]
(016) ld       #0x8
(017) st       M[2]
(018) ldx      M[2]
(019) ld       M[1]
(020) sub      x
(021) jeq      #0x0             jt 22	jf 23
(022) ret      #262144
(023) ret      #0
