(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 14
(002) ldb      [23]
(003) jeq      #0x6             jt 4	jf 14
(004) ldh      [20]
(005) jset     #0x1fff          jt 14	jf 6
(006) ldxb     4*([14]&0xf)
(007) ldb      [x + 27]
(008) jset     #0x8             jt 9	jf 14
(009) ldh      [x + 14]
(010) jeq      #0x50            jt 13	jf 11
(011) ldh      [x + 16]
(012) jeq      #0x50            jt 13	jf 14
(013) ret      #262144
(014) ret      #0
