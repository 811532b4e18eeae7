(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 12
(002) ldb      [23]
(003) jeq      #0x6             jt 4	jf 25
(004) ldh      [20]
(005) jset     #0x1fff          jt 24	jf 6
(006) ldxb     4*([14]&0xf)
(007) ldh      [x + 14]
(008) jeq      #0x16            jt 25	jf 9
(009) jeq      #0x35            jt 25	jf 10
(010) ldh      [x + 16]
(011) jeq      #0x16            jt 25	jf 20
(012) jeq      #0x86dd          jt 13	jf 25
(013) ldb      [20]
(014) jeq      #0x6             jt 15	jf 21
(015) ldh      [54]
(016) jeq      #0x16            jt 25	jf 17
(017) jeq      #0x35            jt 25	jf 18
(018) ldh      [56]
(019) jeq      #0x16            jt 25	jf 20
(020) jeq      #0x35            jt 25	jf 24
(021) jeq      #0x2c            jt 22	jf 25
(022) ldb      [54]
(023) jeq      #0x6             jt 24	jf 25
(024) ret      #262144
(025) ret      #0
