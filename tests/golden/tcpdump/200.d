(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 14
(002) ld       [26]
(003) jeq      #0xa000001       jt 6	jf 4
(004) ld       [30]
(005) jeq      #0xa000001       jt 6	jf 14
(006) ldb      [23]
(007) jeq      #0x6             jt 8	jf 14
(008) ldh      [20]
(009) jset     #0x1fff          jt 14	jf 10
(010) ldxb     4*([14]&0xf)
(011) ldb      [x + 27]
(012) jset     #0x2             jt 13	jf 14
(013) ret      #262144
(014) ret      #0
