(000) ldh      [12]
(001) jeq      #0x8100          jt 4	jf 2
(002) jeq      #0x88a8          jt 4	jf 3
(003) jeq      #0x9100          jt 4	jf 26
(004) ldh      [14]
(005) and      #0xfff
(006) jeq      #0x5             jt 7	jf 26
(007) ldh      [16]
(008) jeq      #0x86dd          jt 9	jf 15
(009) ldb      [24]
(010) jeq      #0x6             jt 11	jf 26
(011) ldh      [58]
(012) jeq      #0x50            jt 25	jf 13
(013) ldh      [60]
(014) jeq      #0x50            jt 25	jf 26
(015) jeq      #0x800           jt 16	jf 26
(016) ldb      [27]
(017) jeq      #0x6             jt 18	jf 26
(018) ldh      [24]
(019) jset     #0x1fff          jt 26	jf 20
(020) ldxb     4*([18]&0xf)
(021) ldh      [x + 18]
(022) jeq      #0x50            jt 25	jf 23
(023) ldh      [x + 20]
(024) jeq      #0x50            jt 25	jf 26
(025) ret      #262144
(026) ret      #0
