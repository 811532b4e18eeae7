(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 18
(002) ld       [26]
(003) jeq      #0xa000001       jt 6	jf 4
(004) ld       [30]
(005) jeq      #0xa000001       jt 6	jf 18
(006) ldb      [23]
(007) jeq      #0x84            jt 10	jf 8
(008) jeq      #0x6             jt 10	jf 9
(009) jeq      #0x11            jt 10	jf 18
(010) ldh      [20]
(011) jset     #0x1fff          jt 18	jf 12
(012) ldxb     4*([14]&0xf)
(013) ldh      [x + 14]
(014) jeq      #0x50            jt 17	jf 15
(015) ldh      [x + 16]
(016) jeq      #0x50            jt 17	jf 18
(017) ret      #262144
(018) ret      #0
