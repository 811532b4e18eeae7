(000) ldh      [12]
(001) jeq      #0x8864          jt 2	jf 26
(002) ld       [14]
(003) and      #0xffff
(004) jeq      #0x5             jt 5	jf 26
(005) ldh      [20]
(006) jeq      #0x57            jt 7	jf 13
(007) ldb      [28]
(008) jeq      #0x6             jt 9	jf 13
(009) ldh      [62]
(010) jeq      #0x50            jt 25	jf 11
(011) ldh      [64]
(012) jeq      #0x50            jt 25	jf 13
(013) ldh      [20]
(014) jeq      #0x21            jt 15	jf 26
(015) ldb      [31]
(016) jeq      #0x6             jt 17	jf 26
(017) ldh      [28]
(018) jset     #0x1fff          jt 26	jf 19
(019) ldxb     4*([22]&0xf)
(020) ldh      [x + 22]
(021) jeq      #0x50            jt 25	jf 22
(022) ldxb     4*([22]&0xf)
(023) ldh      [x + 24]
(024) jeq      #0x50            jt 25	jf 26
(025) ret      #262144
(026) ret      #0
