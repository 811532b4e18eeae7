(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 31
(002) ldh      [12]
(003) jeq      #0x86dd          jt 4	jf 10
(004) ldb      [20]
(005) jeq      #0x3a            jt 30	jf 6
(006) ldb      [20]
(007) jeq      #0x2c            jt 8	jf 10
(008) ldb      [54]
(009) jeq      #0x3a            jt 30	jf 10
(010) ldh      [12]
(011) jeq      #0x86dd          jt 12	jf 18
(012) ldb      [20]
(013) jeq      #0x6             jt 14	jf 18
(014) ldh      [54]
(015) jeq      #0x16            jt 30	jf 16
(016) ldh      [56]
(017) jeq      #0x16            jt 30	jf 18
(018) ldh      [12]
(019) jeq      #0x800           jt 20	jf 31
(020) ldb      [23]
(021) jeq      #0x6             jt 22	jf 31
(022) ldh      [20]
(023) jset     #0x1fff          jt 31	jf 24
(024) ldxb     4*([14]&0xf)
(025) ldh      [x + 14]
(026) jeq      #0x16            jt 30	jf 27
(027) ldxb     4*([14]&0xf)
(028) ldh      [x + 16]
(029) jeq      #0x16            jt 30	jf 31
(030) ret      #262144
(031) ret      #0
