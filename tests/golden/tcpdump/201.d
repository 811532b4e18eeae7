(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 13
(002) ldb      [23]
(003) jeq      #0x1             jt 22	jf 4
(004) jeq      #0x11            jt 6	jf 5
(005) jeq      #0x6             jt 6	jf 23
(006) ldh      [20]
(007) jset     #0x1fff          jt 23	jf 8
(008) ldxb     4*([14]&0xf)
(009) ldh      [x + 14]
(010) jeq      #0x35            jt 22	jf 11
(011) ldh      [x + 16]
(012) jeq      #0x35            jt 22	jf 23
(013) jeq      #0x86dd          jt 14	jf 23
(014) ldb      [20]
(015) jeq      #0x11            jt 18	jf 16
(016) jeq      #0x2c            jt 23	jf 17
(017) jeq      #0x6             jt 18	jf 23
(018) ldh      [54]
(019) jeq      #0x35            jt 22	jf 20
(020) ldh      [56]
(021) jeq      #0x35            jt 22	jf 23
(022) ret      #262144
(023) ret      #0
