(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 11
(002) ld       [26]
(003) and      #0xff000000
(004) jeq      #0xa000000       jt 5	jf 8
(005) ld       [30]
(006) and      #0xff000000
(007) jeq      #0xa000000       jt 22	jf 8
(008) ld       [26]
(009) and      #0xffff0000
(010) jeq      #0xc0a80000      jt 22	jf 23
(011) jeq      #0x806           jt 13	jf 12
(012) jeq      #0x8035          jt 13	jf 23
(013) ld       [28]
(014) and      #0xff000000
(015) jeq      #0xa000000       jt 16	jf 19
(016) ld       [38]
(017) and      #0xff000000
(018) jeq      #0xa000000       jt 22	jf 19
(019) ld       [28]
(020) and      #0xffff0000
(021) jeq      #0xc0a80000      jt 22	jf 23
(022) ret      #262144
(023) ret      #0
