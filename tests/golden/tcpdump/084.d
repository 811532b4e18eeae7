(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 10
(002) ldb      [20]
(003) jeq      #0x6             jt 4	jf 25
(004) ldh      [54]
(005) jeq      #0x50            jt 24	jf 6
(006) jeq      #0x1f90          jt 24	jf 7
(007) jeq      #0x20fb          jt 24	jf 8
(008) ldh      [56]
(009) jeq      #0x50            jt 24	jf 22
(010) jeq      #0x800           jt 11	jf 25
(011) ldb      [23]
(012) jeq      #0x6             jt 13	jf 25
(013) ldh      [20]
(014) jset     #0x1fff          jt 25	jf 15
(015) ldxb     4*([14]&0xf)
(016) ldh      [x + 14]
(017) jeq      #0x50            jt 24	jf 18
(018) jeq      #0x1f90          jt 24	jf 19
(019) jeq      #0x20fb          jt 24	jf 20
(020) ldh      [x + 16]
(021) jeq      #0x50            jt 24	jf 22
(022) jeq      #0x1f90          jt 24	jf 23
(023) jeq      #0x20fb          jt 24	jf 25
(024) ret      #262144
(025) ret      #0
