(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 10
(002) ldb      [20]
(003) jeq      #0x6             jt 4	jf 23
(004) ldh      [54]
(005) jeq      #0x1f90          jt 22	jf 6
(006) ldh      [56]
(007) jeq      #0x1f90          jt 8	jf 23
(008) ldh      [54]
(009) jeq      #0x1f91          jt 23	jf 22
(010) jeq      #0x800           jt 11	jf 23
(011) ldb      [23]
(012) jeq      #0x6             jt 13	jf 23
(013) ldh      [20]
(014) jset     #0x1fff          jt 23	jf 15
(015) ldxb     4*([14]&0xf)
(016) ldh      [x + 14]
(017) jeq      #0x1f90          jt 22	jf 18
(018) ldh      [x + 16]
(019) jeq      #0x1f90          jt 20	jf 23
(020) ldh      [x + 14]
(021) jeq      #0x1f91          jt 23	jf 22
(022) ret      #262144
(023) ret      #0
