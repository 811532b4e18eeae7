(000) ldh      [12]
(001) jeq      #0x8100          jt 4	jf 2
(002) jeq      #0x88a8          jt 4	jf 3
(003) jeq      #0x9100          jt 4	jf 39
(004) ldh      [14]
(005) and      #0xfff
(006) jeq      #0x64            jt 7	jf 39
(007) ldh      [16]
(008) jeq      #0x86dd          jt 9	jf 20
(009) ldb      [24]
(010) jeq      #0x6             jt 11	jf 15
(011) ldh      [58]
(012) jeq      #0x50            jt 38	jf 13
(013) ldh      [60]
(014) jeq      #0x50            jt 38	jf 39
(015) jeq      #0x11            jt 16	jf 39
(016) ldh      [58]
(017) jeq      #0x35            jt 38	jf 18
(018) ldh      [60]
(019) jeq      #0x35            jt 38	jf 39
(020) jeq      #0x800           jt 21	jf 39
(021) ldb      [27]
(022) jeq      #0x6             jt 23	jf 30
(023) ldh      [24]
(024) jset     #0x1fff          jt 39	jf 25
(025) ldxb     4*([18]&0xf)
(026) ldh      [x + 18]
(027) jeq      #0x50            jt 38	jf 28
(028) ldh      [x + 20]
(029) jeq      #0x50            jt 38	jf 39
(030) jeq      #0x11            jt 31	jf 39
(031) ldh      [24]
(032) jset     #0x1fff          jt 39	jf 33
(033) ldxb     4*([18]&0xf)
(034) ldh      [x + 18]
(035) jeq      #0x35            jt 38	jf 36
(036) ldh      [x + 20]
(037) jeq      #0x35            jt 38	jf 39
(038) ret      #262144
(039) ret      #0
