(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 13
(002) ldb      [20]
(003) jeq      #0x3a            jt 12	jf 4
(004) jeq      #0x2c            jt 5	jf 7
(005) ldb      [54]
(006) jeq      #0x3a            jt 12	jf 13
(007) jeq      #0x6             jt 8	jf 13
(008) ldh      [54]
(009) jeq      #0x16            jt 12	jf 10
(010) ldh      [56]
(011) jeq      #0x16            jt 12	jf 13
(012) ret      #262144
(013) ret      #0
