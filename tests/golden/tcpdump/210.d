(000) ldh      [12]
(001) jeq      #0x86dd          jt 29	jf 2
(002) jeq      #0x800           jt 3	jf 29
(003) ldb      [23]
(004) jeq      #0x6             jt 5	jf 29
(005) ldh      [20]
(006) jset     #0x1fff          jt 29	jf 7
(007) ldxb     4*([14]&0xf)
(008) ldh      [x + 14]
(009) jeq      #0x50            jt 12	jf 10
(010) ldh      [x + 16]
(011) jeq      #0x50            jt 12	jf 29
(012) ldh      [16]
(013) st       M[1]
(014) ldb      [14]
(015) and      #0xf
(016) lsh      #2
(017) tax      
(018) ld       M[1]
(019) sub      x
(020) st       M[5]
(021) ldxb     4*([14]&0xf)
(022) ldb      [x + 26]
(023) and      #0xf0
(024) rsh      #2
(025) tax      
(026) ld       M[5]
(027) jeq      x                jt 29	jf 28
(028) ret      #262144
(029) ret      #0
