(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 11
(002) ldb      [20]
(003) jeq      #0x84            jt 6	jf 4
(004) jeq      #0x6             jt 6	jf 5
(005) jeq      #0x11            jt 6	jf 26
(006) ldh      [54]
(007) jeq      #0x16            jt 25	jf 8
(008) jeq      #0x35            jt 25	jf 9
(009) ldh      [56]
(010) jeq      #0x16            jt 25	jf 24
(011) jeq      #0x800           jt 12	jf 26
(012) ldb      [23]
(013) jeq      #0x84            jt 16	jf 14
(014) jeq      #0x6             jt 16	jf 15
(015) jeq      #0x11            jt 16	jf 26
(016) ldh      [20]
(017) jset     #0x1fff          jt 26	jf 18
(018) ldxb     4*([14]&0xf)
(019) ldh      [x + 14]
(020) jeq      #0x16            jt 25	jf 21
(021) jeq      #0x35            jt 25	jf 22
(022) ldh      [x + 16]
(023) jeq      #0x16            jt 25	jf 24
(024) jeq      #0x35            jt 25	jf 26
(025) ret      #0
(026) ret      #262144
