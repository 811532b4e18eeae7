(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 8
(002) ldb      [20]
(003) jeq      #0x84            jt 6	jf 4
(004) jeq      #0x6             jt 6	jf 5
(005) jeq      #0x11            jt 6	jf 20
(006) ldh      [56]
(007) jge      #0x1f40          jt 18	jf 20
(008) jeq      #0x800           jt 9	jf 20
(009) ldb      [23]
(010) jeq      #0x84            jt 13	jf 11
(011) jeq      #0x6             jt 13	jf 12
(012) jeq      #0x11            jt 13	jf 20
(013) ldh      [20]
(014) jset     #0x1fff          jt 20	jf 15
(015) ldxb     4*([14]&0xf)
(016) ldh      [x + 16]
(017) jge      #0x1f40          jt 18	jf 20
(018) jgt      #0x2327          jt 20	jf 19
(019) ret      #262144
(020) ret      #0
