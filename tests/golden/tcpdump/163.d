(000) ldh      [12]
(001) jeq      #0x8100          jt 4	jf 2
(002) jeq      #0x88a8          jt 4	jf 3
(003) jeq      #0x9100          jt 4	jf 20
(004) ldh      [14]
(005) and      #0xfff
(006) jeq      #0xa             jt 7	jf 20
(007) ldh      [16]
(008) jeq      #0x800           jt 9	jf 13
(009) ld       [30]
(010) jeq      #0xa000001       jt 19	jf 11
(011) ld       [34]
(012) jeq      #0xa000001       jt 19	jf 20
(013) jeq      #0x806           jt 15	jf 14
(014) jeq      #0x8035          jt 15	jf 20
(015) ld       [32]
(016) jeq      #0xa000001       jt 19	jf 17
(017) ld       [42]
(018) jeq      #0xa000001       jt 19	jf 20
(019) ret      #262144
(020) ret      #0
