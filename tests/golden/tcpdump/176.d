(000) ldh      [12]
(001) jeq      #0x8864          jt 2	jf 24
(002) ld       [14]
(003) and      #0xffff
(004) jeq      #0x5             jt 5	jf 24
(005) ldh      [20]
(006) jeq      #0x57            jt 7	jf 13
(007) ldb      [28]
(008) jeq      #0x6             jt 9	jf 24
(009) ldh      [62]
(010) jeq      #0x50            jt 23	jf 11
(011) ldh      [64]
(012) jeq      #0x50            jt 23	jf 24
(013) jeq      #0x21            jt 14	jf 24
(014) ldb      [31]
(015) jeq      #0x6             jt 16	jf 24
(016) ldh      [28]
(017) jset     #0x1fff          jt 24	jf 18
(018) ldxb     4*([22]&0xf)
(019) ldh      [x + 22]
(020) jeq      #0x50            jt 23	jf 21
(021) ldh      [x + 24]
(022) jeq      #0x50            jt 23	jf 24
(023) ret      #262144
(024) ret      #0
