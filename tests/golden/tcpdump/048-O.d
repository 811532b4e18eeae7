(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 23
(002) ldh      [12]
(003) jeq      #0x86dd          jt 4	jf 10
(004) ldb      [20]
(005) jeq      #0x11            jt 6	jf 10
(006) ldh      [54]
(007) jeq      #0x35            jt 22	jf 8
(008) ldh      [56]
(009) jeq      #0x35            jt 22	jf 10
(010) ldh      [12]
(011) jeq      #0x800           jt 12	jf 23
(012) ldb      [23]
(013) jeq      #0x11            jt 14	jf 23
(014) ldh      [20]
(015) jset     #0x1fff          jt 23	jf 16
(016) ldxb     4*([14]&0xf)
(017) ldh      [x + 14]
(018) jeq      #0x35            jt 22	jf 19
(019) ldxb     4*([14]&0xf)
(020) ldh      [x + 16]
(021) jeq      #0x35            jt 22	jf 23
(022) ret      #262144
(023) ret      #0
