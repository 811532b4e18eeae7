(000) ldh      [12]
(001) jeq      #0x8100          jt 6	jf 2
(002) ldh      [12]
(003) jeq      #0x88a8          jt 6	jf 4
(004) ldh      [12]
(005) jeq      #0x9100          jt 6	jf 15
(006) ldh      [16]
(007) jeq      #0x8100          jt 12	jf 8
(008) ldh      [16]
(009) jeq      #0x88a8          jt 12	jf 10
(010) ldh      [16]
(011) jeq      #0x9100          jt 12	jf 15
(012) ldh      [20]
(013) jeq      #0x800           jt 14	jf 15
(014) ret      #262144
(015) ret      #0
