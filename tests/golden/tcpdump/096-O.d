(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 6
(002) ldb      [20]
(003) jeq      #0x6             jt 4	jf 6
(004) ldh      [54]
(005) jeq      #0x50            jt 15	jf 6
(006) ldh      [12]
(007) jeq      #0x800           jt 8	jf 31
(008) ldb      [23]
(009) jeq      #0x6             jt 10	jf 31
(010) ldh      [20]
(011) jset     #0x1fff          jt 31	jf 12
(012) ldxb     4*([14]&0xf)
(013) ldh      [x + 14]
(014) jeq      #0x50            jt 15	jf 31
(015) ldh      [12]
(016) jeq      #0x86dd          jt 17	jf 21
(017) ldb      [20]
(018) jeq      #0x6             jt 19	jf 21
(019) ldh      [56]
(020) jeq      #0x400           jt 30	jf 21
(021) ldh      [12]
(022) jeq      #0x800           jt 23	jf 31
(023) ldb      [23]
(024) jeq      #0x6             jt 25	jf 31
(025) ldh      [20]
(026) jset     #0x1fff          jt 31	jf 27
(027) ldxb     4*([14]&0xf)
(028) ldh      [x + 16]
(029) jeq      #0x400           jt 30	jf 31
(030) ret      #262144
(031) ret      #0
