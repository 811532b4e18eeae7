(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 4
(002) ld       [26]
(003) jeq      #0xa000001       jt 24	jf 4
(004) ldh      [12]
(005) jeq      #0x806           jt 6	jf 8
(006) ld       [28]
(007) jeq      #0xa000001       jt 24	jf 8
(008) ldh      [12]
(009) jeq      #0x8035          jt 10	jf 12
(010) ld       [28]
(011) jeq      #0xa000001       jt 24	jf 12
(012) ldh      [12]
(013) jeq      #0x800           jt 14	jf 16
(014) ld       [30]
(015) jeq      #0xa000002       jt 24	jf 16
(016) ldh      [12]
(017) jeq      #0x806           jt 18	jf 20
(018) ld       [38]
(019) jeq      #0xa000002       jt 24	jf 20
(020) ldh      [12]
(021) jeq      #0x8035          jt 22	jf 25
(022) ld       [38]
(023) jeq      #0xa000002       jt 24	jf 25
(024) ret      #262144
(025) ret      #0
