(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 12
(002) ldb      [20]
(003) jeq      #0x6             jt 4	jf 12
(004) ldh      [54]
(005) jge      #0x1             jt 6	jf 8
(006) ldh      [54]
(007) jgt      #0x3ff           jt 8	jf 30
(008) ldh      [56]
(009) jge      #0x1             jt 10	jf 12
(010) ldh      [56]
(011) jgt      #0x3ff           jt 12	jf 30
(012) ldh      [12]
(013) jeq      #0x800           jt 14	jf 31
(014) ldb      [23]
(015) jeq      #0x6             jt 16	jf 31
(016) ldh      [20]
(017) jset     #0x1fff          jt 31	jf 18
(018) ldxb     4*([14]&0xf)
(019) ldh      [x + 14]
(020) jge      #0x1             jt 21	jf 24
(021) ldxb     4*([14]&0xf)
(022) ldh      [x + 14]
(023) jgt      #0x3ff           jt 24	jf 30
(024) ldxb     4*([14]&0xf)
(025) ldh      [x + 16]
(026) jge      #0x1             jt 27	jf 31
(027) ldxb     4*([14]&0xf)
(028) ldh      [x + 16]
(029) jgt      #0x3ff           jt 31	jf 30
(030) ret      #262144
(031) ret      #0
